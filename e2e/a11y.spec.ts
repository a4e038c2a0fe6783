/**
 * Accessibility and keys (issue 13 point 8): axe-core (WCAG 2 A/AA rules) on every section of a
 * studio with the tiny model imported and one image made finds no serious or critical violation;
 * every control is reachable with Tab and shows a visible focus ring; `?` opens the shortcuts panel,
 * which lists the studio's keys and closes with Esc, giving focus back.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, openSection, test } from './fixtures/studio';
import { fillGenerate, importTinyModel, waitGenerated } from './fixtures/models';

test.setTimeout(300_000);

const SECTIONS = ['Generate', 'Concepts', 'Scenes', 'Gallery', 'Models', 'Settings', 'GPU'];

test('every section passes axe without serious violations; Tab shows focus; ? lists the shortcuts', async ({ page, pageErrors }) => {
  await page.goto('/');
  await importTinyModel(page);
  await fillGenerate(page, { prompt: 'a red kite over the sea', steps: 1 });
  await page.getByTestId('gen-go').click();
  await waitGenerated(page);

  const report: string[] = [];
  for (const name of SECTIONS) {
    await openSection(page, name);
    await page.waitForTimeout(300);
    const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    for (const v of r.violations) {
      const line = `${name}: [${v.impact}] ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`;
      report.push(line);
    }
  }
  // the shortcuts panel: `?` opens it (not while typing), axe passes it too, Esc closes it and focus returns
  await openSection(page, 'Generate');
  await page.getByTestId('gen-go').focus();
  await page.keyboard.press('?');
  const panel = page.getByTestId('shortcuts-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
  await expect(panel).toContainText('Ctrl+Enter');
  await expect(panel).toContainText('Undo');
  await expect(page.getByTestId('shortcuts-close')).toBeFocused();
  await page.screenshot({ path: '/tmp/a11y-shortcuts.png' });
  const inPanel = await new AxeBuilder({ page }).include('[data-testid="shortcuts-panel"]').withTags(['wcag2a', 'wcag2aa']).analyze();
  report.push(...inPanel.violations.map((v) => `Shortcuts panel: [${v.impact}] ${v.id}: ${v.help}`));
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  await expect(page.getByTestId('gen-go')).toBeFocused();
  expect((await page.evaluate(() => window.__studio?.generation.phase))).toBe('done');
  // typed into a field, `?` is text, not the panel
  await page.getByTestId('gen-prompt').fill('');
  await page.getByTestId('gen-prompt').pressSequentially('why?');
  await expect(page.getByTestId('gen-prompt')).toHaveValue('why?');
  await expect(panel).toHaveCount(0);

  // Tab from the top of the page reaches the skip link, the navigation, the prompt and Generate, each
  // with a visible focus ring (an outline or a border colour that differs from the unfocused one)
  await page.locator('body').click({ position: { x: 1, y: 1 } });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const reached = new Set<string>();
  const unringed: string[] = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const cs = getComputedStyle(el);
      const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
      return { id: el.dataset.testid ?? el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? el.tagName, ring, visible: el.getBoundingClientRect().width > 0 };
    });
    if (!f) continue;
    reached.add(f.id);
    if (!f.ring && f.visible) unringed.push(f.id);
  }
  for (const id of ['Skip to the section', 'gen-prompt', 'gen-steps']) expect([...reached]).toContain(id);
  expect(unringed).toEqual([]);

  console.log(report.join('\n') || 'no axe violations');
  expect(report.filter((l) => /\[(serious|critical)\]/.test(l))).toEqual([]);
  expect(pageErrors).toEqual([]);
});
