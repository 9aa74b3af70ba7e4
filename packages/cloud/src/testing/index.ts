/**
 * Test doubles of the cloud, for tests in other packages and for benchmarks (`@synkti/cloud/testing`):
 * a fake EC2 Query API endpoint. The emulated metadata endpoint is in the main entry point,
 * because local fleets run it.
 */
export { startFakeEc2, type FakeEc2, type FakeEc2Options, type FakeEc2Call, type InjectedFault, type CapacityRule, type FakeInstance } from './fake-ec2.js';
