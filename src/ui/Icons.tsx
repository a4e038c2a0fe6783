/** Inline stroke icons (24x24 grid, currentColor), so the shell loads nothing from the network. */
import type { ReactNode, SVGProps } from 'react';

function Icon({ children, ...rest }: SVGProps<SVGSVGElement> & { children: ReactNode }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="18"
      height="18"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.7"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      {...rest}
    >
      {children}
    </svg>
  );
}

export const IconGenerate = () => (
  <Icon>
    <path d="M12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.1 2.1M16.3 16.3l2.1 2.1M5.6 18.4l2.1-2.1M16.3 7.7l2.1-2.1" />
    <circle cx="12" cy="12" r="2.5" />
  </Icon>
);
export const IconConcepts = () => (
  <Icon>
    <path d="M12 3l2.6 5.3 5.9.9-4.3 4.1 1 5.8L12 16.4l-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z" />
  </Icon>
);
export const IconScenes = () => (
  <Icon>
    <rect x="3" y="4" width="18" height="16" rx="2.5" />
    <path d="M3 16l5-5 4 4 3-3 6 6" />
    <circle cx="15.5" cy="8.5" r="1.5" />
  </Icon>
);
export const IconGallery = () => (
  <Icon>
    <rect x="3" y="3" width="7.5" height="7.5" rx="1.8" />
    <rect x="13.5" y="3" width="7.5" height="7.5" rx="1.8" />
    <rect x="3" y="13.5" width="7.5" height="7.5" rx="1.8" />
    <rect x="13.5" y="13.5" width="7.5" height="7.5" rx="1.8" />
  </Icon>
);
export const IconModels = () => (
  <Icon>
    <path d="M12 3l8 4.5v9L12 21l-8-4.5v-9z" />
    <path d="M4 7.5l8 4.5 8-4.5M12 12v9" />
  </Icon>
);
export const IconSettings = () => (
  <Icon>
    <path d="M4 7h10M18 7h2M4 17h4M12 17h8" />
    <circle cx="16" cy="7" r="2" />
    <circle cx="10" cy="17" r="2" />
  </Icon>
);
export const IconChip = () => (
  <Icon>
    <rect x="6" y="6" width="12" height="12" rx="2" />
    <rect x="9.5" y="9.5" width="5" height="5" rx="0.8" />
    <path d="M9 3v3M15 3v3M9 18v3M15 18v3M3 9h3M3 15h3M18 9h3M18 15h3" />
  </Icon>
);
export const IconCheck = () => (
  <Icon width="14" height="14" strokeWidth="2.2">
    <path d="M5 12.5l4.5 4.5L19 7.5" />
  </Icon>
);
export const IconCross = () => (
  <Icon width="14" height="14" strokeWidth="2.2">
    <path d="M7 7l10 10M17 7L7 17" />
  </Icon>
);
export const IconAlert = () => (
  <Icon width="20" height="20">
    <path d="M12 3.5l9.5 16.5h-19z" />
    <path d="M12 10v4.5M12 17.2v.3" />
  </Icon>
);
export const IconOffline = () => (
  <Icon width="14" height="14">
    <path d="M12 4v11M7.5 10.5L12 15l4.5-4.5M5 19.5h14" />
  </Icon>
);

/** The app mark, the same geometry as public/icon.svg (scripts/make-icons.mjs). */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg viewBox="0 0 512 512" width={size} height={size} aria-hidden="true">
      <defs>
        <linearGradient id="logo-accent" gradientUnits="userSpaceOnUse" x1="128" y1="128" x2="384" y2="384">
          <stop offset="0" stopColor="#8b7bff" />
          <stop offset="1" stopColor="#38d5f2" />
        </linearGradient>
      </defs>
      <rect width="512" height="512" rx="115" fill="#151925" />
      <circle cx="256" cy="256" r="161" fill="none" stroke="url(#logo-accent)" strokeWidth="26" />
      <circle cx="256" cy="256" r="84" fill="url(#logo-accent)" />
      <circle cx="370" cy="142" r="47" fill="#151925" />
      <circle cx="370" cy="142" r="32" fill="#f5f7ff" />
    </svg>
  );
}
