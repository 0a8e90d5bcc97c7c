/**
 * The print layout of a channel code (docs/acquisition.md "QR download"), without DOM code so the
 * browser test can check a download against it: the QR at 10 cm at 300 dpi, a margin, the label band.
 */
export const PRINT_QR_PX = 1181;
export const PRINT_MARGIN_PX = 90;
export const PRINT_LABEL_PX = 240;
export const PRINT_WIDTH = PRINT_QR_PX + 2 * PRINT_MARGIN_PX;
export const PRINT_HEIGHT = PRINT_QR_PX + 2 * PRINT_MARGIN_PX + PRINT_LABEL_PX;
