// Tensor scopes: explicit, deterministic cleanup of intermediates. Every tensor created while a scope is
// open is recorded in it; when the scope ends, those not returned (or kept) are disposed. Scopes nest;
// a kept or returned tensor moves to the enclosing scope. Synchronous scopes use run(); code that awaits
// uses begin()/end() around its body.

import { Tensor } from './tensor';

export class Scopes {
  private stack: Set<Tensor>[] = [];

  get depth(): number {
    return this.stack.length;
  }

  track(t: Tensor): void {
    this.stack[this.stack.length - 1]?.add(t);
  }

  untrack(t: Tensor): void {
    this.stack[this.stack.length - 1]?.delete(t);
  }

  /** Exempt tensors from the innermost scope's cleanup (they move to the enclosing scope). */
  keep<T>(value: T): T {
    for (const t of tensorsIn(value)) this.moveOut(t);
    return value;
  }

  begin(): void {
    this.stack.push(new Set());
  }

  /** Close the innermost scope, disposing what it created except the tensors inside `result`. */
  end(result?: unknown): void {
    for (const t of tensorsIn(result)) this.moveOut(t);
    const top = this.stack.pop();
    if (!top) throw new Error('Scopes.end without begin');
    for (const t of top) t.dispose();
  }

  run<T>(fn: () => T): T {
    this.begin();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.end();
      throw e;
    }
    if (result instanceof Promise) {
      this.end();
      throw new Error('scope(fn): fn returned a Promise; use scopes.begin()/end() around asynchronous code');
    }
    this.end(result);
    return result;
  }

  private moveOut(t: Tensor): void {
    const n = this.stack.length;
    if (n === 0) return;
    if (this.stack[n - 1]!.delete(t) && n >= 2) this.stack[n - 2]!.add(t);
  }
}

/** Tensors directly in a value: a tensor, an array of them, or a plain object's own values (one level). */
function tensorsIn(value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value)) return value.filter((v): v is Tensor => v instanceof Tensor);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).filter((v): v is Tensor => v instanceof Tensor);
  }
  return [];
}
