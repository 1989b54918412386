"""The phone-width check, element by element (issue 14): on a 390 px screen
no element may reach past the screen or stick out of the box that holds it,
and a table is a stack of labelled cards. The scripts run in the page, with
Playwright's synchronous or asynchronous API alike:
`page.evaluate(WIDTH_CHECK, SLACK_PX)`, `page.evaluate(TABLE_CHECK)`."""

PHONE = {"width": 390, "height": 844}
# Sub-pixel rounding of the layout engine.
SLACK_PX = 1

# Every rendered element of the body whose box reaches past the viewport's
# width, or past the left or right edge of its parent's box, described for a
# failure message (selector and sizes); [] when everything fits.
#
# Only the horizontal extent is compared with the parent: a line's inline box
# (a button in an inline form) is legitimately taller than its line, but
# nothing on a phone should be wider than what holds it. A negative margin
# is a deliberate reach past the parent (Bootstrap's .row gutters): allowed
# up to the margin, and never past the screen. Skipped: elements
# with no box (display: none, the collapsed menu, <option>), invisible ones,
# text for screen readers only (clipped to 1 px: Bootstrap's visually-hidden)
# and what lies inside a box that scrolls sideways on purpose (overflow-x
# auto or scroll): that box itself must still fit.
WIDTH_CHECK = """(slack) => {
  const width = document.documentElement.clientWidth;
  const name = (e) => {
    const classes = typeof e.className === 'string' && e.className.trim()
      ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
    const text = (e.innerText || e.textContent || '').trim().replace(/\\s+/g, ' ');
    return `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${classes}`
      + (text ? ` «${text.slice(0, 40)}»` : '');
  };
  const hidden = (style) =>
    (style.position === 'absolute' || style.position === 'fixed')
    && (style.clip === 'rect(0px, 0px, 0px, 0px)' || style.clipPath === 'inset(50%)');
  const skipped = new Set();
  const found = [];
  for (const e of document.body.querySelectorAll('*')) {
    const parent = e.parentElement;
    if (skipped.has(parent)) { skipped.add(e); continue; }
    const style = getComputedStyle(e);
    if (hidden(style)) { skipped.add(e); continue; }
    const box = e.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (style.visibility === 'hidden') continue;
    const size = `${Math.round(box.left)}–${Math.round(box.right)} px`
      + ` (${Math.round(box.width)} px wide)`;
    if (box.left < -slack || box.right > width + slack) {
      found.push(`${name(e)}: ${size}, the screen is ${width} px wide`);
    } else if (parent && parent !== document.body) {
      const outer = parent.getBoundingClientRect();
      const reachLeft = Math.max(0, -parseFloat(style.marginLeft) || 0);
      const reachRight = Math.max(0, -parseFloat(style.marginRight) || 0);
      if (box.left < outer.left - reachLeft - slack
          || box.right > outer.right + reachRight + slack) {
        found.push(`${name(e)}: ${size}, outside ${name(parent)} at`
          + ` ${Math.round(outer.left)}–${Math.round(outer.right)} px`);
      }
    }
    if (['auto', 'scroll'].includes(style.overflowX)) skipped.add(e);
  }
  return found;
}"""

# A table with a header row, on a phone: the header hidden and every cell
# with something in it led by its column's name (data-label, shown by
# ::before), so each row reads as a card. Tables of label and value (row
# headers, no header row) read as they are, and so do tables whose header
# row is for screen readers only (visually hidden: Django's app list).
TABLE_CHECK = """() => {
  const found = [];
  document.querySelectorAll('main table, #content table').forEach((table, i) => {
    const where = `table #${i + 1}`
      + (table.id ? `#${table.id}` : '') + (table.className ? `.${table.className.split(' ').join('.')}` : '');
    const head = table.querySelector('thead');
    if (!head || !table.getClientRects().length) return;
    const style = getComputedStyle(head);
    if (style.position === 'absolute' && style.clip === 'rect(0px, 0px, 0px, 0px)') return;
    if (style.display !== 'none') {
      found.push(`${where}: its header row still shows on a phone (not stacked as cards)`);
      return;
    }
    table.querySelectorAll('tbody td').forEach((td) => {
      if (!td.textContent.trim() || td.colSpan > 1) return;
      const label = getComputedStyle(td, '::before').content;
      if (!label || label === 'none' || label === 'normal' || label === '""') {
        found.push(`${where}: a cell without its label «${td.textContent.trim().slice(0, 30)}»`);
      }
    });
  });
  return found;
}"""
