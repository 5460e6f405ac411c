import Table from 'cli-table3';

/** A column: its heading, and whether its values line up on the right (numbers). */
export interface Column {
  head: string;
  right?: boolean;
}

// No box lines: the columns are separated by two spaces, so each row starts with its first cell and the
// output stays easy to grep and to paste.
const PLAIN = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '',
  right: '', 'right-mid': '', middle: '  ',
};

/** Rows under their headings, laid out by cli-table3 with the columns aligned. */
export function table(columns: Column[], rows: Array<Array<string | number>>): string {
  const t = new Table({
    head: columns.map((c) => c.head),
    colAligns: columns.map((c) => (c.right ? 'right' : 'left')),
    chars: PLAIN,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  t.push(...rows.map((row) => row.map(String)));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
