import mongoose from 'mongoose';

/**
 * The MongoDB operations `fn` sends through the driver (each one command), as `<collection>
 * <operation>`: the driver's collection methods are watched (its command monitoring is set when a
 * connection opens, the test's connection is open already).
 */
export async function countingCommands<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const proto = mongoose.mongo.Collection.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const commands: string[] = [];
  const methods = OPERATIONS.filter((m) => typeof proto[m] === 'function');
  const originals = methods.map((m) => proto[m]);
  methods.forEach((m, i) => {
    const original = originals[i];
    proto[m] = function (this: { collectionName: string }, ...args: unknown[]) {
      commands.push(`${this.collectionName} ${m}`);
      return original?.apply(this, args);
    };
  });
  try {
    return { result: await fn(), commands };
  } finally {
    methods.forEach((m, i) => (proto[m] = originals[i] as (...args: unknown[]) => unknown));
  }
}
const OPERATIONS = [
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'updateOne',
  'updateMany',
  'replaceOne',
  'insertOne',
  'insertMany',
  'bulkWrite',
  'deleteOne',
  'deleteMany',
  'findOne',
  'find',
  'countDocuments',
  'aggregate',
];
