export interface Item {
  id: string;
  name: string;
  price: number;
  quantity: number;
  tags: string[];
}

export interface Order {
  id: string;
  items: OrderLine[];
  createdAt: Date;
}

export interface OrderLine {
  itemId: string;
  quantity: number;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };
