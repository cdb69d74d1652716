import * as z from 'zod';
import { envName } from '../../lib/manifest.ts';
import { callerAdmin } from '../shared/api.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { json } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { httpRoute } from '../shared/middleware.ts';
import { gapMonth, inutilizacaoDeadline } from './inutilizacao-job.ts';
import { DynamoNumbering, GAP_STATES, type Gap } from './numbering.ts';

const env = readEnv({ [envName.table('numbering')]: z.string().min(1) });
const numbering = new DynamoNumbering(dynamo(), env[envName.table('numbering')] as string);
/** Gaps listed per state at most (the oldest first); `more` says when there are others. */
const LIMIT = 1000;

/**
 * GET /admin/nfce/numbering (admin tokens only): per CNPJ and série, the last number taken and
 * the skipped numbers by state — pending (with the deadline to declare them: the 10th of the
 * following month), declared (the inutilização's protocol), used (a key of theirs exists at SEFAZ,
 * so they are never declared), refused (SEFAZ's answer, for an operator).
 */
export const handler = httpRoute(async (event) => {
  const admin = callerAdmin(event);
  const now = new Date();
  const [series, ...byState] = await Promise.all([
    numbering.series(),
    ...GAP_STATES.map((state) => numbering.gaps(state, LIMIT)),
  ]);
  const view = (gap: Gap) => ({
    nNF: gap.nNF,
    reason: gap.reason,
    ...(gap.at ? { recordedAt: gap.at } : {}),
    ...(gap.state === 'PENDING' ? { deadline: inutilizacaoDeadline(gapMonth(gap, now)) } : {}),
    ...(gap.chaves ? { chaves: gap.chaves } : {}),
    ...(gap.nProt ? { nProt: gap.nProt } : {}),
    ...(gap.usedBy ? { usedBy: gap.usedBy } : {}),
    ...(gap.refusal ? { refusal: gap.refusal } : {}),
  });
  const body = {
    series: series.map((s) => ({
      cnpj: s.cnpj,
      serie: s.serie,
      lastNNF: s.lastNNF,
      gaps: Object.fromEntries(
        GAP_STATES.map((state, i) => [
          state.toLowerCase(),
          byState[i]!.gaps.filter((g) => g.cnpj === s.cnpj && g.serie === s.serie).map(view),
        ]),
      ),
    })),
    more: byState.some((page) => page.more),
  };
  logger.info('numbering listed', { admin, series: series.length });
  return json(200, body);
});
