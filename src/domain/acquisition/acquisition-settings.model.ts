import { Schema, model } from 'mongoose';

/** A corp's lead routing and SLA settings (acquisition-settings.ts parses them; docs/acquisition.md). */
const settingsDocSchema = new Schema(
  { corpId: { type: String, required: true, unique: true }, settings: { type: Schema.Types.Mixed, required: true } },
  { timestamps: true, collection: 'acquisition_settings', versionKey: false },
);
export const AcquisitionSettingsModel = model('AcquisitionSettings', settingsDocSchema);
