// Counts the calls made to an object's methods, by name: how tests see what a piece of the node
// asks storage for (one query, or one per member), without timing anything.

/** `target` with every method call counted in `calls`. */
export function countedCalls<T extends object>(target: T): { counted: T; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const counted = new Proxy(target, {
    get(object, key, receiver) {
      const value = Reflect.get(object, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(key), (calls.get(String(key)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
  return { counted, calls };
}
