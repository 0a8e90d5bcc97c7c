import mongoose, { Schema, type InferSchemaType, type Model } from 'mongoose';
import { announceWrites, changeNotices } from '../../infra/change-notices.js';

/**
 * The current state of a campaign rule. `body` is the parsed, versioned definition
 * (rule.schema.ts); `version` counts its changes and every version is kept in `rule_versions`.
 * `scope` is `all` (OEM-wide) or a corp id; corps that switched an OEM-wide rule off are listed in
 * `disabledCorps`. Deleting is soft (`deletedAt`): executions keep pointing at a rule that exists.
 */
const ruleSchema = new Schema(
  {
    name: { type: String, required: true },
    scope: { type: String, required: true },
    enabled: { type: Boolean, required: true, default: false },
    disabledCorps: { type: [String], default: [] },
    version: { type: Number, required: true },
    /** Denormalised from body for the engine's look-up. */
    triggerType: { type: String, required: true },
    welcome: { type: Boolean, default: false },
    priority: { type: Number, required: true },
    body: { type: Schema.Types.Mixed, required: true },
    createdBy: { type: String },
    updatedBy: { type: String },
    deletedAt: { type: Date },
    /**
     * Four-eyes switch-on of an all-corps rule (docs/security.md): who asked to enable which
     * version; a second, different person approves. Cleared by the approval or a new version.
     */
    enableProposal: {
      type: new Schema(
        {
          by: { type: String, required: true },
          at: { type: Date, required: true },
          version: { type: Number, required: true },
        },
        { _id: false },
      ),
    },
    /** The last approved switch-on of an all-corps rule: proposer, approver, when, which version. */
    enableApproval: {
      type: new Schema(
        {
          proposedBy: { type: String, required: true },
          approvedBy: { type: String, required: true },
          at: { type: Date, required: true },
          version: { type: Number, required: true },
        },
        { _id: false },
      ),
    },
  },
  { collection: 'rules', timestamps: true, versionKey: false, minimize: false },
);
ruleSchema.index({ triggerType: 1, enabled: 1, scope: 1 });
ruleSchema.index({ scope: 1, deletedAt: 1 });

/**
 * Notification of rule writes: this process's caches (the welcome lane's, the engine's) drop what
 * they hold at once, and the other processes are told through Redis (src/infra/change-notices.ts).
 */
export function onRuleWrite(listener: () => void): () => void {
  return changeNotices.on('rules', listener);
}
announceWrites(ruleSchema, 'rules');

export type RuleDocument = InferSchemaType<typeof ruleSchema>;
export const RuleModel: Model<RuleDocument> =
  (mongoose.models.Rule as Model<RuleDocument> | undefined) ?? mongoose.model<RuleDocument>('Rule', ruleSchema);

/** Every version of every rule, as it was authored; never changed after insert. */
const ruleVersionSchema = new Schema(
  {
    ruleId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    body: { type: Schema.Types.Mixed, required: true },
    /** What happened: created, updated, enabled, disabled, deleted ... (for the history view). */
    change: { type: String, required: true },
    by: { type: String },
    at: { type: Date, required: true },
  },
  { collection: 'rule_versions', versionKey: false, minimize: false },
);
ruleVersionSchema.index({ ruleId: 1, version: 1 }, { unique: true });

export type RuleVersionDocument = InferSchemaType<typeof ruleVersionSchema>;
export const RuleVersionModel: Model<RuleVersionDocument> =
  (mongoose.models.RuleVersion as Model<RuleVersionDocument> | undefined) ??
  mongoose.model<RuleVersionDocument>('RuleVersion', ruleVersionSchema);
