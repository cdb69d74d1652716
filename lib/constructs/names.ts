/** Builds one construct per manifest entry, keeping the manifest's names as the map's keys. */
export function byName<K extends string, S, R>(specs: Record<K, S>, build: (name: K, spec: S) => R): Record<K, R> {
  return Object.fromEntries(Object.entries<S>(specs).map(([name, spec]) => [name, build(name as K, spec)])) as Record<K, R>;
}

/** `nfceRequests` → `NfceRequests`, for construct ids. */
export function pascal(camel: string): string {
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

/** The declared entries of an optional manifest map (`tables`, `buckets`), typed by its keys. */
export function entriesOf<K extends string, V>(map: Partial<Record<K, V>> | undefined): [K, V][] {
  return Object.entries(map ?? {}) as [K, V][];
}
