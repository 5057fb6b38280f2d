// Which uploads are archives to unpack, by name alone: pure, so the job workflow decides with it
// whether its share needs preparing.
export type ArchiveKind = 'zip' | 'tar.gz';

export function archiveKind(file: string): ArchiveKind | null {
  const lower = file.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  return null;
}
