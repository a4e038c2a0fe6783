/**
 * Every keyboard shortcut the studio answers, in one list: the `?` panel shows it, and each entry
 * names where its handler lives so the two stay in step (issue 13 point 8). Keys are written as a
 * person presses them; "Ctrl" stands for Cmd on a Mac, as the handlers accept either.
 */
export interface Shortcut {
  keys: string[];
  what: string;
}

export interface ShortcutGroup {
  title: string;
  items: Shortcut[];
}

export const SHORTCUTS: readonly ShortcutGroup[] = [
  {
    title: 'Everywhere',
    items: [
      { keys: ['?'], what: 'Show this list of shortcuts' },
      { keys: ['Tab', 'Shift+Tab'], what: 'Move between controls (the focused one has a ring)' },
      { keys: ['Esc'], what: 'Close a dialog or this panel' },
    ],
  },
  {
    // src/ui/generate/GeneratePage.tsx
    title: 'Generate',
    items: [
      { keys: ['Ctrl+Enter'], what: 'Generate with the current settings (queues behind a running job)' },
      { keys: ['Esc'], what: 'Cancel the running job' },
    ],
  },
  {
    // src/ui/gallery/FullSizeViewer.tsx, GalleryTools.tsx
    title: 'Gallery',
    items: [
      { keys: ['Shift+click'], what: 'Select a range of images' },
      { keys: ['+', '-'], what: 'Zoom the full-size view in / out' },
      { keys: ['0'], what: 'Full-size view at 100%' },
      { keys: ['F'], what: 'Fit the full-size view to the window' },
      { keys: ['Ctrl + wheel'], what: 'Zoom the full-size view around the pointer' },
      { keys: ['Esc'], what: 'Close the full-size view; in the search box, clear it' },
    ],
  },
  {
    // src/ui/scenes/ScenesPage.tsx (onShortcut), ToolBar.tsx (TOOL_KEYS), stage-hooks.ts, stage-pointer.ts
    title: 'Scenes (mask editor)',
    items: [
      { keys: ['B'], what: 'Brush' },
      { keys: ['E'], what: 'Eraser' },
      { keys: ['R'], what: 'Rectangle' },
      { keys: ['O'], what: 'Ellipse' },
      { keys: ['[', ']'], what: 'Smaller / larger brush' },
      { keys: ['Ctrl+Z'], what: 'Undo' },
      { keys: ['Ctrl+Shift+Z', 'Ctrl+Y'], what: 'Redo' },
      { keys: ['Ctrl+S'], what: 'Save the scene' },
      { keys: ['Space + drag'], what: 'Pan the canvas' },
      { keys: ['Ctrl + wheel'], what: 'Zoom the canvas around the pointer' },
    ],
  },
];
