/**
 * Test doubles of the cloud, for tests in other packages and for benchmarks (`@synkti/cloud/testing`):
 * a fake EC2 Query API endpoint. The emulated metadata endpoint is in the main entry point,
 * because local fleets run it.
 */
export {
  startFakeEc2,
  type FakeEc2,
  type FakeEc2Options,
  type FakeEc2Behaviour,
  type FakeEc2Call,
  type InjectedFault,
  type CapacityRule,
  type FakeInstance,
  type FakeVolume,
} from './fake-ec2.js';
export { FAULT_STATUS, CAPACITY_CODES, faultStatus } from './faults.js';
export { EC2_REQUEST_BUCKETS, EC2_RESOURCE_BUCKETS, type BucketSpec } from './throttle.js';
