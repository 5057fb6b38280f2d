// Run by each worker when it starts (the pixyzWarmUp workflow), so that the first real job finds
// everything on its path warm. It does nothing.
export async function main(): Promise<{ warm: true }> {
  return { warm: true };
}
