// The search index's worker (spawned in startClient.ts): the SDK's worker entry, bundled by Vite
// as its own chunk.
import '@outpost/client/search-worker';
