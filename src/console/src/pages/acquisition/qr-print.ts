/**
 * The print PNG of a channel code (docs/acquisition.md "QR download"): the QR at 10 cm at 300 dpi
 * (1181 px) on white, with the channel's name under it, composed in the browser. The QR pixels
 * come through the bot (`/api/v1/channels/:id/qr.png`, same origin), since WeCom's CDN sends no
 * CORS headers and a canvas holding its image could not be exported.
 */
import { PRINT_HEIGHT, PRINT_LABEL_PX, PRINT_MARGIN_PX, PRINT_QR_PX, PRINT_WIDTH } from './print-size.js';

const FONT = '"PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif';

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('the QR image could not be loaded; try again once the code is synced'));
    img.src = url;
  });
}

/** The largest font size (≤ 96 px) at which `text` fits `width`. */
export function fitFontSize(measure: (size: number) => number, width: number): number {
  let size = 96;
  while (size > 24 && measure(size) > width) size -= 4;
  return size;
}

/** Draws the print layout on a canvas of print size and answers it as a PNG blob. */
export async function composePrintPng(qrUrl: string, label: string): Promise<Blob> {
  const qr = await loadImage(qrUrl);
  const canvas = document.createElement('canvas');
  canvas.width = PRINT_WIDTH;
  canvas.height = PRINT_HEIGHT;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw the print image');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, PRINT_WIDTH, PRINT_HEIGHT);
  // Nearest-neighbour scaling keeps the modules' edges sharp at print size.
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(qr, PRINT_MARGIN_PX, PRINT_MARGIN_PX, PRINT_QR_PX, PRINT_QR_PX);
  const size = fitFontSize(
    (s) => {
      ctx.font = `600 ${s}px ${FONT}`;
      return ctx.measureText(label).width;
    },
    PRINT_WIDTH - 2 * PRINT_MARGIN_PX,
  );
  ctx.font = `600 ${size}px ${FONT}`;
  ctx.fillStyle = '#1f2329';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(label, PRINT_WIDTH / 2, PRINT_QR_PX + 2 * PRINT_MARGIN_PX + PRINT_LABEL_PX / 2 - PRINT_MARGIN_PX / 2);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the print image could not be made'))), 'image/png'),
  );
}

/** A file name from the channel's name: characters file systems refuse become `_`. */
export function printFileName(name: string): string {
  return `${name.replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 60) || 'channel'}-qr.png`;
}

/** Composes the print PNG and hands it to the browser as a download. */
export async function downloadPrintPng(qrUrl: string, label: string): Promise<void> {
  const blob = await composePrintPng(qrUrl, label);
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = printFileName(label);
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
