// File texts kept in memory, least recently used dropped first once their total passes a
// character budget; a dropped text is read again from disk when it is next needed.

export class TextCache {
  private readonly texts = new Map<string, string>();
  private totalChars = 0;

  constructor(readonly maxChars: number) {}

  get(key: string): string | undefined {
    const text = this.texts.get(key);
    if (text === undefined) return undefined;
    // Re-insertion moves it to the most recent end of the Map's order.
    this.texts.delete(key);
    this.texts.set(key, text);
    return text;
  }

  set(key: string, text: string): void {
    this.delete(key);
    if (text.length > this.maxChars) return;
    this.texts.set(key, text);
    this.totalChars += text.length;
    for (const [oldest, old] of this.texts) {
      if (this.totalChars <= this.maxChars) break;
      this.texts.delete(oldest);
      this.totalChars -= old.length;
    }
  }

  delete(key: string): void {
    const text = this.texts.get(key);
    if (text === undefined) return;
    this.texts.delete(key);
    this.totalChars -= text.length;
  }

  clear(): void {
    this.texts.clear();
    this.totalChars = 0;
  }

  get chars(): number {
    return this.totalChars;
  }
}
