// The header editor's rows and what they send. A saved value never reaches the window, so a row
// whose value box was left as it was is sent as "keep": main keeps the saved value.
import type { HeaderEdit, HeaderSummary } from '../../src-shared/contract.js';

export interface HeaderRow {
  key: number;
  name: string;
  value: string;
  /** The saved header this row started from (undefined for a new row). */
  saved?: HeaderSummary;
}

/** Rows for the saved headers: a hidden value starts empty (never the mask); a `${VAR}` one as written. */
export function headerRows(saved: readonly HeaderSummary[], nextKey: () => number): HeaderRow[] {
  return saved.map((h) => ({ key: nextKey(), name: h.name, value: h.hidden ? '' : h.value, saved: h }));
}

/** What to send: an untouched value box means "keep the saved value" (of the row's saved name, even after a rename). */
export function headerEdits(rows: readonly HeaderRow[]): HeaderEdit[] {
  return rows.map((r) => {
    const name = r.name.trim();
    const untouched = r.saved !== undefined && (r.saved.hidden ? r.value === '' : r.value === r.saved.value);
    if (r.saved && untouched) return r.saved.name === name ? { name, keep: true } : { name, keep: true, from: r.saved.name };
    return { name, value: r.value };
  });
}
