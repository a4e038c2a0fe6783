/** The forgetting dashboard: being built this session. */
export function ForgettingPanel() {
  return <section data-testid="forgetting-dashboard" aria-label="Forgetting" />;
}
