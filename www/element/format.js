// How the element writes numbers: percentages and sizes.

/** 0.8123 → "81.2 %" (`digits` decimals). */
export const percent = (p, digits = 1) => `${(100 * p).toFixed(digits)} %`;

/** 123456 → "121 KB". */
export const kilobytes = (bytes) => `${Math.round(bytes / 1024).toLocaleString('en')} KB`;
