// Runs an in-memory PLC directory and the Bluesky reference PDS in one Node 22 process, for
// crosspost's tests (tests/platforms/test_bluesky_pds.py starts it, tests/pds/install.sh installs
// it). Listens on 127.0.0.1 only; data lives in PDS_DATA_DIRECTORY. Prints one JSON line
// {"ready": true, ...} when both answer, and stops cleanly on SIGTERM/SIGINT.
import net from 'node:net'
import path from 'node:path'
import { createRequire } from 'node:module'

// Both servers call listen(port) without a host, which would listen on every interface:
// keep them on loopback.
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  return listen.apply(this, args)
}

const require = createRequire(import.meta.url)
const plc = require('@did-plc/server')
const { Secp256k1Keypair } = await import('@atproto/crypto')
const { PDS, envToCfg, envToSecrets, readEnv } = await import('@atproto/pds')

const plcPort = Number(process.env.PLC_PORT)
const pdsPort = Number(process.env.PDS_PORT)
const dataDir = process.env.PDS_DATA_DIRECTORY

const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
await plcServer.start()

const rotation = await Secp256k1Keypair.create({ exportable: true })
Object.assign(process.env, {
  PDS_HOSTNAME: 'localhost',
  PDS_PORT: String(pdsPort),
  PDS_DEV_MODE: 'true',
  PDS_INVITE_REQUIRED: 'false',
  PDS_DID_PLC_URL: `http://127.0.0.1:${plcPort}`,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
  PDS_JWT_SECRET: process.env.PDS_JWT_SECRET || 'crosspost-test-jwt-secret',
  PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || 'crosspost-test-admin',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: Buffer.from(await rotation.export()).toString('hex'),
  PDS_RATE_LIMITS_ENABLED: 'false',
  PDS_CRAWLERS: '',
  LOG_ENABLED: process.env.LOG_ENABLED || 'false',
})
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()
console.log(JSON.stringify({ ready: true, pds: `http://127.0.0.1:${pdsPort}`, plc: `http://127.0.0.1:${plcPort}` }))

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await pds.destroy()
    await plcServer.destroy()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
// The test runner's end of stdin closing means it is gone: do not outlive it.
process.stdin.on('end', stop)
process.stdin.resume()
