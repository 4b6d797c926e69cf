// The title of the current screen; it takes the focus when the screen mounts so keyboard and
// screen-reader users land at the top of the new content instead of on a removed button.
import { useEffect, useRef, type ReactNode } from 'react';

export function ScreenHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h2 id="screen-title" ref={ref} tabIndex={-1} className="screen-title">
      {children}
    </h2>
  );
}

/** The title of a step inside a screen (the add wizard): focused when the step appears, since the button that led to it is gone. */
export function StepTitle({ id, children }: { id: string; children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h3 id={id} ref={ref} tabIndex={-1} className="card-title step-title">
      {children}
    </h3>
  );
}
