export const currency = 'EUR';
export const taxRate = 0.2;

export function roundCents(amount: number): number {
  return Math.round(amount * 100) / 100;
}

export function withTax(amount: number): number {
  return roundCents(amount * (1 + taxRate));
}

export function formatPrice(amount: number): string {
  return `${roundCents(amount).toFixed(2)} ${currency}`;
}
