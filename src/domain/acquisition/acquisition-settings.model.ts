import { Schema, model } from 'mongoose';
import { changeNotices } from '../../infra/change-notices.js';

/** A corp's lead routing and SLA settings (acquisition-settings.ts parses them; docs/acquisition.md). */
const settingsDocSchema = new Schema(
  { corpId: { type: String, required: true, unique: true }, settings: { type: Schema.Types.Mixed, required: true } },
  { timestamps: true, collection: 'acquisition_settings', versionKey: false },
);

// Intake holds the settings in memory (acquisition-settings.ts, `AcquisitionSettingsCache`): every
// write tells this process and, through Redis, the others (src/infra/change-notices.ts).
const announceSettingsWrite = () => changeNotices.announce('lead-settings');
settingsDocSchema.post('save', announceSettingsWrite);
settingsDocSchema.post('insertMany', announceSettingsWrite);
settingsDocSchema.post(
  ['updateOne', 'updateMany', 'findOneAndUpdate', 'replaceOne', 'deleteOne', 'deleteMany', 'findOneAndDelete'],
  announceSettingsWrite,
);
settingsDocSchema.post('bulkWrite', announceSettingsWrite);

export const AcquisitionSettingsModel = model('AcquisitionSettings', settingsDocSchema);
