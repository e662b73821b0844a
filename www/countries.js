// Reference data for the demo's pickers: country names by ISO 3166-1 alpha-2 code, and the
// SMS calling codes External ID turns off by default (S-REGION, 2026), which a tenant must
// opt in to before an SMS code can be sent there.

/** Countries offered in pickers (a sample, not the full ISO list). */
export const COUNTRIES = {
  AU: "Australia", BR: "Brazil", CA: "Canada", CN: "China", CU: "Cuba", DE: "Germany",
  ES: "Spain", FR: "France", GB: "United Kingdom", IE: "Ireland", IN: "India", IR: "Iran",
  IT: "Italy", JP: "Japan", KP: "North Korea", NG: "Nigeria", NL: "Netherlands", PL: "Poland",
  RU: "Russia", SE: "Sweden", SY: "Syria", US: "United States", VN: "Vietnam", ZA: "South Africa",
};

/** The name of a country code, or the code itself when it is not in the sample. */
export function countryName(code) {
  return COUNTRIES[code] ?? code;
}

/**
 * Calling codes (without "+") where SMS is off until the tenant opts in: every code listed
 * by S-REGION. A code is at most 4 digits.
 */
export const OPT_IN_CALLING_CODES = [
  93, 213, 244, 374, 994, 880, 375, 501, 229, 975, 591, 387, 359, 226, 257, 238, 855, 237, 235, 269,
  243, 242, 225, 385, 53, 253, 593, 20, 503, 291, 251, 679, 689, 241, 220, 995, 233, 590, 502, 224,
  245, 592, 509, 62, 98, 964, 1876, 962, 254, 686, 383, 965, 996, 961, 266, 231, 218, 261, 265, 223,
  222, 230, 262, 691, 373, 976, 212, 258, 95, 977, 687, 505, 227, 234, 968, 92, 970, 675, 63, 974, 7,
  250, 290, 508, 1784, 685, 377, 966, 221, 232, 1721, 386, 252, 211, 94, 249, 963, 992, 255, 670, 672,
  228, 690, 216, 993, 256, 380, 971, 998, 678, 84, 967, 260, 263,
];

/** A few of those codes, named, for the settings page (the demo's examples). */
export const OPT_IN_EXAMPLES = [
  { code: 20, name: "Egypt" },
  { code: 62, name: "Indonesia" },
  { code: 63, name: "Philippines" },
  { code: 84, name: "Vietnam" },
  { code: 92, name: "Pakistan" },
  { code: 234, name: "Nigeria" },
  { code: 254, name: "Kenya" },
  { code: 380, name: "Ukraine" },
  { code: 880, name: "Bangladesh" },
  { code: 971, name: "United Arab Emirates" },
];
