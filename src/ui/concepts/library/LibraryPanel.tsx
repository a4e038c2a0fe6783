/** The concept library (list, search, rename, delete, export, import): being built this session. */
export function LibraryPanel() {
  return <section data-testid="concept-library" aria-label="Concept library" />;
}
