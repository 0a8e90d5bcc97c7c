import { cdata } from '../../../src/wecom/callback-crypto.js';

export type XmlValue = string | number | undefined | XmlField[];
export type XmlField = readonly [string, XmlValue];

/** Plaintext event XML as WeCom writes it: strings in CDATA, numbers bare, absent fields omitted. */
export function eventXml(fields: readonly XmlField[]): string {
  return `<xml>${fieldsXml(fields)}</xml>`;
}

function fieldsXml(fields: readonly XmlField[]): string {
  return fields
    .map(([name, value]) => {
      if (value === undefined) return '';
      if (Array.isArray(value)) return `<${name}>${fieldsXml(value)}</${name}>`;
      if (typeof value === 'number') return `<${name}>${value}</${name}>`;
      return `<${name}><![CDATA[${cdata(value)}]]></${name}>`;
    })
    .join('');
}
