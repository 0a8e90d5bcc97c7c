import { sealContext, type DataCipher } from '../infra/data-crypto.js';
import type { InboundJobData } from './inbound.producer.js';

/** The context a callback's XML is sealed with: bound to its job id (the de-duplication key). */
export function inboundXmlContext(jobId: string): string {
  return sealContext('wecom-inbound', 'xml', jobId);
}

/**
 * The `wecom-inbound` job of a verified callback, its decrypted XML sealed (docs/security.md,
 * "Data at rest and in transit"): Redis keeps job data in clear text, and this XML holds member
 * messages and contact-sync employee fields. One AES-GCM pass with a key imported once.
 */
export function sealInboundJob(
  cipher: DataCipher,
  jobId: string,
  corpId: string,
  receivedAt: number,
  xml: string,
): InboundJobData {
  return { corpId, receivedAt, xmlSealed: cipher.encrypt(xml, inboundXmlContext(jobId)) };
}

/**
 * The decrypted XML of an inbound job. Jobs enqueued before sealing carry `xml` in clear and
 * still open, until they complete or age out (their retention is a day, failed ones 14 days).
 */
export function openInboundXml(cipher: DataCipher, jobId: string, data: { xmlSealed?: string; xml?: string }): string {
  if (data.xmlSealed) return cipher.decrypt(data.xmlSealed, inboundXmlContext(jobId));
  if (data.xml) return data.xml;
  throw new Error('wecom-inbound job carries neither xmlSealed nor xml');
}
