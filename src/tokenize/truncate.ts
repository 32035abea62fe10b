/**
 * "Longest first" truncation of a segment pair to a token budget: repeatedly drop the last token of
 * the longer segment (of the second on a tie), as Hugging Face's `longest_first` strategy does.
 * Returns the lengths to keep.
 */
export function longestFirstLengths(first: number, second: number, budget: number): [number, number] {
  let a = first;
  let b = second;
  while (a + b > budget) {
    if (a > b) a--;
    else b--;
  }
  return [a, b];
}
