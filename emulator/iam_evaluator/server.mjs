// IAM policy evaluation for the xrdeploy local cloud (LocalStack's guard `xrdeploy-guards`).
//
// Protocol: one JSON object per line on stdin, one answer per line on stdout, in order.
//   request: {"id": <any>, "simulation": <iam-simulate Simulation>}
//   answer:  {"id", "result": "Allowed"|"ExplicitlyDenied"|"ImplicitlyDenied",
//             "sameAccount", "identity", "resource", "grants": [...], "denials": [...],
//             "ignoredContextKeys": [...]}
//            or {"id", "error": "<message>"} when the simulation cannot run (invalid policy,
//            an action or resource iam-data does not know, "*" for an action with resource
//            types).
// The evaluation is @cloud-copilot/iam-simulate's in Strict mode: the context keys given are
// all there is, as in AWS.
import { createInterface } from 'node:readline'
import { getDenialReasons, getGrantReasons, runSimulation } from '@cloud-copilot/iam-simulate'

async function evaluate(simulation) {
  const response = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (response.resultType === 'error') {
    return { error: response.errors.message, details: response.errors }
  }
  if (response.resultType === 'wildcard') {
    // Only a resource of "*" gets here: an action with resource types asked without a resource.
    return { error: 'the request names no resource this action can be evaluated on' }
  }
  const result = response.result
  const analysis = result.analysis
  return {
    result: response.overallResult,
    sameAccount: analysis?.sameAccount ?? null,
    identity: analysis?.identityAnalysis?.result ?? null,
    resource: analysis?.resourceAnalysis?.result ?? null,
    grants: analysis ? getGrantReasons(analysis) : [],
    denials: analysis ? getDenialReasons(analysis) : [],
    ignoredContextKeys: result?.ignoredContextKeys ?? []
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
// Answers are written in request order; the client matches them by id as well.
let queue = Promise.resolve()
lines.on('line', (line) => {
  if (!line.trim()) return
  queue = queue.then(async () => {
    let id = null
    let answer
    try {
      const request = JSON.parse(line)
      id = request.id ?? null
      answer = await evaluate(request.simulation)
    } catch (error) {
      answer = { error: String(error?.message ?? error) }
    }
    process.stdout.write(JSON.stringify({ id, ...answer }) + '\n')
  })
})
lines.on('close', () => {
  queue.then(() => process.exit(0))
})
