import mongoose from 'mongoose';
import { testMongoUri, uniqueName } from './env.js';

/**
 * Connects the default mongoose connection to a database of this test file's own (on the dev
 * MongoDB server, or MONGODB_URI), builds the models' indexes, and returns a clean-up that drops it.
 */
export async function useTestDatabase(label = 'db'): Promise<{ uri: string; drop: () => Promise<void> }> {
  const uri = testMongoUri(uniqueName(label));
  mongoose.set('bufferCommands', false);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000 });
  await Promise.all(Object.values(mongoose.models).map((model) => model.syncIndexes()));
  return {
    uri,
    drop: async () => {
      await mongoose.connection.dropDatabase().catch(() => undefined);
      await mongoose.disconnect();
    },
  };
}
