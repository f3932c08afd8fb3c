import { Inventory } from './inventory';
import { formatPrice } from './money';

const inventory = new Inventory();
inventory.add({ id: 'pen', name: 'Pen', price: 1.5, quantity: 100, tags: ['office'] });
inventory.add({ id: 'desk', name: 'Desk', price: 240, quantity: 3, tags: ['office', 'furniture'] });
inventory.add({ id: 'lamp', name: 'Lamp', price: 35, quantity: 12, tags: ['furniture'] });

const result = inventory.reserve({ id: 'o-1', items: [{ itemId: 'pen', quantity: 10 }], createdAt: new Date() });
if (result.ok) {
  console.log(`reserved for ${formatPrice(result.value)}`);
} else {
  console.error(result.error);
}
console.log(`stock value: ${formatPrice(inventory.totalValue())}`);
