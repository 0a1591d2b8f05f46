/** Cosine similarity of two vectors (0 when either is empty or their lengths differ). */
export function cosine(a: number[], b: number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** The k items whose vectors are closest to the query, best first. */
export function mostSimilar<T>(query: number[], items: { item: T; vector: number[] }[], k: number): T[] {
  return items
    .map((x) => ({ item: x.item, score: cosine(query, x.vector) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((x) => x.item);
}
