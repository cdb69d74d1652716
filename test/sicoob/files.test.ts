import JSZip from 'jszip';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileRecords, readRecord, UnreadableFile, type FileRecord } from '../../functions/sicoob/files.ts';

/** The spec's LIQUI record (§1.4), long names, money with 4 decimals as the example writes it. */
const LONG = `{"codigoTipoMovimento":5,"siglaMovimento":"LIQUI","dataInicioMovimento":"2026-11-28T00:00:00-03:00","dataFimMovimento":"2026-11-29T00:00:00-03:00","numeroCliente":707090,"numeroContrato":707090,"modalidade":1,"numeroTitulo":35161,"seuNumero":"NF-1001","dataVencimentoTitulo":"2026-12-10T00:00:00-03:00","valorTitulo":150.0000,"codigoBarras":"75691123400000150001432401070709000351610001","dataMovimentoLiquidacao":"2026-11-29T00:00:00-03:00","dataLiquidacao":"2026-11-28T00:00:00-03:00","dataPrevisaoCredito":"2026-11-30T00:00:00-03:00","numeroBancoRecebedor":756,"numeroAgenciaRecebedora":3069,"numeroContaCorrente":12345,"idTipoOpFinanceira":212,"tipoOpFinanceira":"07 - Via Pix","valorAbatimento":0.0000,"valorDesconto":5.0000,"valorMora":1.2500,"valorLiquido":146.2500,"valorTarifaMovimento":1.5000,"tipoCarteiraOpCredito":"COBRANÇA"}`;
const EXPECTED = {
  numeroCliente: '707090',
  numeroTitulo: '35161',
  seuNumero: 'NF-1001',
  valorTitulo: 15000,
  dataLiquidacao: '2026-11-28',
  dataPrevisaoCredito: '2026-11-30',
  dataMovimento: '2026-11-29',
  valorLiquido: 14625,
  valorMora: 125,
  valorDesconto: 500,
  valorAbatimento: 0,
  valorTarifaMovimento: 150,
  idTipoOpFinanceira: '212',
  tipoOpFinanceira: '07 - Via Pix',
};

async function zipOf(entries: Record<string, string>): Promise<string> {
  const zip = new JSZip();
  for (const [name, text] of Object.entries(entries)) zip.file(name, text);
  return (await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' })).toString('base64');
}

async function all(base64: string, skip = 0): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  for await (const record of fileRecords(base64, skip)) out.push(record);
  return out;
}

describe('a LIQUI record', () => {
  it('reads the long names: centavos, days, the channel', () => {
    expect(readRecord(JSON.parse(LONG), 0)).toEqual({ index: 0, kind: 'liquidation', record: EXPECTED });
  });

  it('reads the abbreviated names, unpadded dates and amounts as strings', () => {
    const short = {
      codTipoMovimento: 5,
      siglaMovimento: 'LIQUI',
      numCliente: '707090',
      numTitulo: '00035161',
      descSeuNumero: 'NF-1001',
      valorTitulo: '150,00',
      dataLiquidacao: '2026-11-8T00:00:00-03:00',
      dataMovLiquidacao: '2026-11-9T00:00:00-03:00',
      valorLiquido: '1.146,2500',
    };
    expect(readRecord(short, 3)).toEqual({
      index: 3,
      kind: 'liquidation',
      record: {
        numeroCliente: '707090',
        numeroTitulo: '00035161',
        seuNumero: 'NF-1001',
        valorTitulo: 15000,
        dataLiquidacao: '2026-11-08',
        dataMovimento: '2026-11-09',
        valorLiquido: 114625,
        valorMora: 0,
        valorDesconto: 0,
        valorAbatimento: 0,
        valorTarifaMovimento: 0,
      },
    });
  });

  it('counts other movements apart, and names what is wrong with a bad one', () => {
    expect(readRecord({ siglaMovimento: 'BAIX', numeroTitulo: 1 }, 0)).toEqual({ index: 0, kind: 'other', sigla: 'BAIX' });
    expect(readRecord({ ...JSON.parse(LONG), dataLiquidacao: '2026-02-30', valorLiquido: 'muito' }, 1)).toEqual({
      index: 1,
      kind: 'invalid',
      problem: expect.stringMatching(/^dataLiquidacao: is not a calendar day; valorLiquido: /),
    });
    expect(readRecord([1, 2], 2)).toEqual({ index: 2, kind: 'invalid', problem: 'not a JSON object' });
  });

  it('refuses amounts it would have to guess, and negative ones; keeps the contract number without zeros', () => {
    const base = JSON.parse(LONG);
    const amount = (valorLiquido: unknown) => readRecord({ ...base, valorLiquido }, 0);
    expect(amount('1.500,25')).toMatchObject({ record: { valorLiquido: 150025 } });
    expect(amount('85.5')).toMatchObject({ record: { valorLiquido: 8550 } });
    for (const bad of ['1.500.000', '-5', -5, '1,500.25', '85.12345'])
      expect(amount(bad), String(bad)).toMatchObject({ kind: 'invalid', problem: expect.stringMatching(/^valorLiquido: /) });
    expect(readRecord({ ...base, numeroCliente: '0707090' }, 0)).toMatchObject({ record: { numeroCliente: '707090' } });
  });

  it('never throws, whatever the record holds', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(['liquidation', 'other', 'invalid']).toContain(readRecord(value, 0).kind);
      }),
    );
  });
});

describe('a movement file', () => {
  it('reads every .json and .txt entry in name order, arrays and JSON lines, and resumes after `skip` records', async () => {
    const record = (n: number) => LONG.replace('"numeroTitulo":35161', `"numeroTitulo":${n}`);
    const file = await zipOf({
      'LIQUI_1_b.txt': `${record(3)}\n${record(4)}\nnot json\n`,
      'LIQUI_1_a.json': `\uFEFF[${record(1)},${record(2)}]`,
      'readme.pdf': 'ignored',
    });
    const read = await all(file);
    expect(read.map((r) => (r.kind === 'liquidation' ? r.record.numeroTitulo : r.kind))).toEqual(['1', '2', '3', '4', 'invalid']);
    expect(read.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect((await all(file, 3)).map((r) => r.index)).toEqual([3, 4]);
  });

  it('calls a file with damaged compressed data unreadable, never crashing, whatever the damage', async () => {
    const records = Array.from({ length: 2000 }, (_, n) => LONG.replace('"numeroTitulo":35161', `"numeroTitulo":${n}`));
    for (const body of [`[${records.join(',')}]`, records.join('\n')]) {
      const zip = new JSZip();
      zip.file('LIQUI.json', body);
      const bytes = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
      for (const at of [0.2, 0.8]) {
        const damaged = Buffer.from(bytes);
        const start = Math.floor(damaged.length * at);
        for (let i = start; i < start + 40; i++) damaged[i]! ^= 0x5a;
        await expect(all(damaged.toString('base64'))).rejects.toThrow(UnreadableFile);
      }
    }
  });

  it('refuses what is not a ZIP of records', async () => {
    await expect(all(Buffer.from('not a zip').toString('base64'))).rejects.toThrow(UnreadableFile);
    await expect(all(await zipOf({ 'a.csv': 'x' }))).rejects.toThrow('the ZIP archive holds no .json or .txt entry');
    await expect(all(await zipOf({ 'a.json': '[{"siglaMovimento":"LIQUI"' }))).rejects.toThrow(UnreadableFile);
  });
});
