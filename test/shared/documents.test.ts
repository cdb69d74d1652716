import { describe, expect, it } from 'vitest';
import { parseTaxDocument } from '../../functions/shared/documents.ts';

describe('parseTaxDocument', () => {
  it.each([
    ['529.982.247-25', { kind: 'CPF', number: '52998224725' }],
    ['52998224725', { kind: 'CPF', number: '52998224725' }],
    ['82.373.077/0001-71', { kind: 'CNPJ', number: '82373077000171' }],
    // The Receita Federal's own example of the alphanumeric CNPJ (from July 2026).
    ['12.ABC.345/01DE-35', { kind: 'CNPJ', number: '12ABC34501DE35' }],
    ['12abc34501de35', { kind: 'CNPJ', number: '12ABC34501DE35' }],
  ])('accepts %s', (input, expected) => {
    expect(parseTaxDocument(input)).toEqual(expected);
  });

  it.each([
    ['52998224724', 'CPF with a wrong second digit'],
    ['52998224715', 'CPF with a wrong first digit'],
    ['11111111111', 'CPF of repeated digits'],
    ['82373077000172', 'CNPJ with a wrong check digit'],
    ['12ABC34501DE36', 'alphanumeric CNPJ with a wrong check digit'],
    ['00000000000000', 'CNPJ of repeated digits'],
    ['1234567890', 'ten digits'],
    ['12ABC34501DEAB', 'letters in the check digits'],
  ])('rejects %s (%s)', (input) => {
    expect(parseTaxDocument(input)).toBeUndefined();
  });
});
