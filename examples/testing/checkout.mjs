// Application code under test: it only receives a saltshard client (or Eppo's), so tests can hand it a test double.

/**
 * The checkout page a user sees.
 * @param {{ getBooleanAssignment(flag: string, subject: string, attributes: Record<string, unknown>, fallback: boolean): boolean,
 *   getStringAssignment(flag: string, subject: string, attributes: Record<string, unknown>, fallback: string): string }} flags
 * @param {string} userId
 * @param {Record<string, string | number | boolean>} attributes
 */
export function checkoutPage(flags, userId, attributes) {
  const redesigned = flags.getBooleanAssignment('new-checkout', userId, attributes, false);
  const color = flags.getStringAssignment('button-color', userId, attributes, 'gray');
  return `${redesigned ? 'one-page' : 'classic'} checkout, ${color} button`;
}
