import { Item, Order, Result } from './types';
import { withTax } from './money';

export class Inventory {
  private readonly items = new Map<string, Item>();

  add(item: Item): void {
    this.items.set(item.id, item);
  }

  get(id: string): Item | undefined {
    return this.items.get(id);
  }

  remove(id: string): boolean {
    return this.items.delete(id);
  }

  count(): number {
    return this.items.size;
  }

  totalValue(): number {
    let total = 0;
    for (const item of this.items.values()) {
      total += item.price * item.quantity;
    }
    return total;
  }

  withTag(tag: string): Item[] {
    return [...this.items.values()].filter((item) => item.tags.includes(tag));
  }

  reserve(order: Order): Result<number> {
    let total = 0;
    for (const line of order.items) {
      const item = this.items.get(line.itemId);
      if (!item) {
        return { ok: false, error: `unknown item ${line.itemId}` };
      }
      if (item.quantity < line.quantity) {
        return { ok: false, error: `not enough ${item.name}` };
      }
      total += withTax(item.price * line.quantity);
    }
    for (const line of order.items) {
      const item = this.items.get(line.itemId)!;
      item.quantity -= line.quantity;
    }
    return { ok: true, value: total };
  }
}
