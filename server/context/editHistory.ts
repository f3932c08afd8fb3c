// When each file was last edited in the editor during this session, from the documents'
// change events. Opening a document is not an edit. Both the ranking (edited files are
// relevant) and the prompt order (edited files go late, where a change costs the prefix
// cache least) read it.

export class EditHistory {
  private readonly lastEdit = new Map<string, number>();
  private readonly openedVersion = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A document was opened at `version`: its first content event is not an edit. */
  opened(path: string, version: number): void {
    this.openedVersion.set(path, version);
  }

  closed(path: string): void {
    this.openedVersion.delete(path);
  }

  /** A document's content is now at `version`. */
  changed(path: string, version: number): void {
    if (this.openedVersion.get(path) === version) return;
    this.lastEdit.set(path, this.now());
  }

  lastEditMs(path: string): number | undefined {
    return this.lastEdit.get(path);
  }

  get all(): ReadonlyMap<string, number> {
    return this.lastEdit;
  }
}
