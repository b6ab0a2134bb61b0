/**
 * Wraps `api` so that each method call records `name.method` in `called`: the SDK's end-to-end tests
 * check that they called every method of a client.
 */
export function track<T extends object>(name: string, api: T, called: Set<string>): T {
  return new Proxy(api, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        called.add(`${name}.${prop}`);
        return Reflect.apply(value, target, args);
      };
    },
  });
}
