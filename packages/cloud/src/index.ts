export {
  TAG_FLEET,
  TAG_SLOT,
  TAG_REPLACES,
  TAG_TOKEN,
  TAG_KEYS,
  EC2_ACTIONS,
  IMDS_POLL_INTERVAL_MS,
} from './constants.js';
export {
  CLOUD_ERROR_CODES,
  type AwsErrorDetail,
  InsufficientCapacityError,
  IdempotentParameterMismatchError,
  ProviderFailedError,
  CloudConfigError,
  BadLaunchRequestError,
  ImdsError,
} from './errors.js';
export {
  ec2ProviderConfigSchema,
  parseEc2ProviderConfig,
  type Ec2ProviderInit,
  type Ec2ProviderConfig,
} from './ec2/config.js';
export { ec2Provider, type Ec2Provider, type Ec2ProviderComponents } from './ec2/provider.js';
export { EC2_ERROR_TABLE, THROTTLING_CODES, codesOf, classifyAwsError } from './ec2/aws-errors.js';
export {
  launchWithPlacements,
  type PlacementAttempt,
  type PlacementWalk,
  type PlacementOutcome,
} from './launch-with-placements.js';
export { localProvider, localInstanceId, type LocalProviderInit, type LocalSpawn } from './local/provider.js';
export { LocalLedger, type LocalInstanceRecord } from './local/ledger.js';
export { imdsWatcher, IMDS_MAINTENANCE_POLL_INTERVAL_MS, imdsWatcherConfigSchema, type ImdsWatcher, type ImdsWatcherInit, type ImdsWatcherComponents } from './imds/watcher.js';
export { imdsClient, loadImdsSdk, type ImdsClient, type ImdsClientInit } from './imds/client.js';
export { type ImdsNotice, type NoticeKind, parseInstanceAction, parseRebalance, parseScheduledMaintenance, IMDS_PATH_MAINTENANCE_SCHEDULED } from './imds/notice.js';
export { instanceIdentity, type InstanceIdentity } from './imds/identity.js';
export {
  startFakeImds,
  FAKE_IMDS_CONTROL_PATH,
  type FakeImds,
  type FakeImdsOptions,
  type FakeImdsIdentity,
  type FakeImdsAction,
} from './testing/fake-imds.js';
export { isProcessAlive } from './local/process.js';
