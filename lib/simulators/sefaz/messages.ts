/**
 * The cStat/xMotivo pairs the simulator answers, worded as SEFAZ words them (MOC 7.0 and its
 * technical notes; 225 as SP's NFC-e service words it). A client may match on the code; the text
 * is there so logs and receipts read like the real thing.
 */
export interface Status {
  cStat: string;
  xMotivo: string;
}

const status = (cStat: string, xMotivo: string): Status => ({ cStat, xMotivo });

export const statuses = {
  authorized: status('100', 'Autorizado o uso da NF-e'),
  lotProcessed: status('104', 'Lote processado'),
  inOperation: status('107', 'Serviço em Operação'),
  paused: status('108', 'Serviço Paralisado Momentaneamente (curto prazo)'),
  stopped: status('109', 'Serviço Paralisado sem Previsão'),

  // Lot (retEnviNFe without protNFe)
  tooLarge: status('214', 'Rejeição: Tamanho da mensagem excedeu o limite estabelecido'),
  lotSchema: status('225', 'Rejeição: Falha no Schema XML do lote de NFe'),
  prefix: status('404', 'Rejeição: Uso de prefixo de namespace não permitido'),
  asyncForOne: status('452', 'Rejeição: Solicitada resposta assíncrona para Lote com somente 1 (uma) NF-e'),
  syncForMany: status('764', 'Rejeição: Solicitada resposta síncrona para Lote com mais de uma NF-e (indSinc=1)'),

  // Status and consultation services (retConsStatServ, retConsSitNFe)
  messageSchema: status('215', 'Rejeição: Falha no schema XML'),
  statusUf: status('289', 'Rejeição: Código da UF informada diverge da UF solicitada'),

  // Document (protNFe)
  wrongEnvironment: status('252', 'Rejeição: Ambiente informado diverge do Ambiente de recebimento'),
  wrongUf: status('226', 'Rejeição: Código da UF do Emitente diverge da UF autorizadora'),
  notNfce: status('775', 'Rejeição: Modelo da NFC-e diferente de 65'),
  keyMismatch: status(
    '502',
    'Rejeição: Erro na Chave de Acesso - Campo Id não corresponde à concatenação dos campos correspondentes',
  ),
  keyCheckDigit: status('236', 'Rejeição: Chave de Acesso com dígito verificador inválido'),
  signatureProfile: status('298', 'Rejeição: Assinatura difere do padrão do Sistema'),
  certificateInvalid: status('290', 'Rejeição: Certificado Assinatura inválido'),
  signatureMismatch: status('297', 'Rejeição: Assinatura difere do calculado'),
  certificateExpired: status('291', 'Rejeição: Certificado Assinatura Data Validade'),
  certificateWithoutCnpj: status('292', 'Rejeição: Certificado Assinatura sem CNPJ'),
  certificateCnpj: status('213', 'Rejeição: CNPJ-Base do Emitente difere do CNPJ-Base do Certificado Digital'),
  // MOC 7.0 §4.2.1 group B (ide): the emission type and times (emission.ts).
  emissionTypeSvc: status('570', 'Rejeição: Tipo de Emissão 3, 6 ou 7 só é válido nas contingências SCAN/SVC'),
  // B22-34 words the message "NFC-e com contingência inválida (tpEmis=2, 4 (a critério da UF) ou 5)";
  // whether SEFAZ-SP's xMotivo carries that parenthesis is UNCONFIRMED (older lists: "… DPEC inexistente").
  emissionTypeInvalid: status('714', 'Rejeição: NFC-e com contingência inválida'),
  emittedAfterReceipt: status('703', 'Rejeição: Data-Hora de Emissão posterior ao horário de recebimento'),
  emittedLate: status('704', 'Rejeição: NFC-e com Data-Hora de emissão atrasada'),
  contingencyOnNormal: status(
    '556',
    'Rejeição: Justificativa de entrada em contingência não deve ser informada para tipo de emissão normal',
  ),
  contingencyMissing: status('557', 'Rejeição: A Justificativa de entrada em contingência deve ser informada'),
  // 558 is MOC 7.0's B28-30, worded "… posterior a data de recebimento" and checked against the
  // receipt; older cStat lists word it against dhEmi, the check made here. That SEFAZ-SP rejects a
  // dhCont after dhEmi (but not after the receipt) at all, and with this text, is UNCONFIRMED.
  contingencyAfterEmission: status('558', 'Rejeição: Data de entrada em contingência posterior a data de emissão'),
  qrMissing: status('394', 'Rejeição: Nota Fiscal sem a informação do QR-Code'),
  qrUrl: status('395', 'Rejeição: Endereço do site da UF da Consulta via QR-Code diverge do previsto'),
  qrParameterMissing: status('396', 'Rejeição: Parâmetro do QR-Code inexistente'),
  qrParameterDiffers: status('397', 'Rejeição: Parâmetro do QR-Code divergente da Nota Fiscal'),
  qrVersion: status('398', 'Rejeição: Parâmetro Versão informada no QR-Code diverge do previsto (“2”)'),
  cscUnknown: status('462', 'Rejeição: Código Identificador do CSC no QR-Code não cadastrado na SEFAZ'),
  qrHash: status('464', 'Rejeição: Código de Hash no QR-Code difere do calculado'),
  // Totals, in the order of the MOC's rules: item (I11), ICMSTot (W03…W16), payments (YA).
  itemValue: status(
    '629',
    'Rejeição: Valor do Produto difere do produto Valor Unitário de Comercialização e Quantidade Comercial',
  ),
  totalBc: status('531', 'Rejeição: Total da BC ICMS difere do somatório dos itens'),
  totalIcms: status('532', 'Rejeição: Total do ICMS difere do somatório dos itens'),
  totalBcSt: status('533', 'Rejeição: Total da BC ICMS-ST difere do somatório dos itens'),
  totalSt: status('534', 'Rejeição: Total do ICMS-ST difere do somatório dos itens'),
  totalProducts: status('564', 'Rejeição: Total do Produto / Serviço difere do somatório dos itens'),
  totalFreight: status('535', 'Rejeição: Total do Frete difere do somatório dos itens'),
  totalInsurance: status('536', 'Rejeição: Total do Seguro difere do somatório dos itens'),
  totalDiscount: status('537', 'Rejeição: Total do Desconto difere do somatório dos itens'),
  totalOther: status('604', 'Rejeição: Total do vOutro difere do somatório dos itens'),
  totalInvoice: status('610', 'Rejeição: Total da NF difere do somatório dos Valores compõe o valor Total da NF.'),
  paymentsShort: status('865', 'Rejeição: Total dos pagamentos menor que o total da nota'),
  changeMissing: status(
    '866',
    'Rejeição: Ausência de troco quando o valor dos pagamentos informados for maior que o total da nota',
  ),
  changeWrong: status('869', 'Rejeição: Valor do troco incorreto'),
  // NT 2023.004 / 2025.001: the card group for cards (03, 04) and PIX (17) on NFC-e (MOC YA04).
  cardMissing: status(
    '391',
    'Rejeição: Não informados os dados do cartão de crédito / débito nas Formas de Pagamento da Nota Fiscal',
  ),
  // MOC I05c: an ICMS-ST item without CEST.
  cestMissing: status('806', 'Rejeição: Operação com ICMS-ST sem informação do CEST'),

  // NT 2025.002-RTC, group W03 (texts as the NT words them, v1.31).
  ibsCbsTotUnexpected: status('1118', 'Rejeição: Total de IBS e CBS informado indevidamente'),
  ibsCbsTotMissing: status('1119', 'Rejeição: Total de IBS e CBS não informado'),
  ibsCbsTotBase: status('1076', 'Rejeição: Total da BC do IBS e da CBS difere da soma dos itens'),
  ibsCbsTotIbsUf: status('1080', 'Rejeição: Total de IBS UF difere da soma dos itens'),
  ibsCbsTotIbsMun: status('1084', 'Rejeição: Total de IBS Municipal difere da soma dos itens'),
  ibsCbsTotIbs: status('1085', 'Rejeição: Total do IBS difere da soma do vIBS dos itens'),
  ibsCbsTotCbs: status('1091', 'Rejeição: Total de CBS difere da soma dos itens'),

  // NT 2026.007: the emitter's CRT against the Receita Federal register. The code is the spec's
  // ([sec]); the wording is UNCONFIRMED (no text of the NT could be read).
  crtDiffersFromReceita: status(
    '180',
    'Rejeição: Código de Regime Tributário do emitente diverge do cadastro na Receita Federal',
  ),

  // Consultation (retConsSitNFe)
  notFound: status('217', 'Rejeição: NF-e não consta na base de dados da SEFAZ'),
  cancelled: status('101', 'Cancelamento de NF-e homologado'),

  // Events (NFeRecepcaoEvento4: retEnvEvento, then retEvento per event; MOC 7.0 wording)
  eventLotProcessed: status('128', 'Lote de Evento Processado'),
  eventRegistered: status('135', 'Evento registrado e vinculado a NF-e'),
  eventTypeUnsupported: status('491', 'Rejeição: O tpEvento informado inválido'),
  eventSchema: status('493', 'Rejeição: Evento não atende o Schema XML específico'),
  eventId: status(
    '572',
    'Rejeição: Erro Atributo ID do evento não corresponde a concatenação dos campos (“ID” + tpEvento + chNFe + nSeqEvento)',
  ),
  eventDuplicate: status('573', 'Rejeição: Duplicidade de Evento'),
  eventAuthor: status('574', 'Rejeição: O autor do evento diverge do emissor da NF-e'),
  /** An event on a key that is no longer authorized: here, one already cancelled (by 110111 or 110112). */
  eventNeedsAuthorized: status('580', 'Rejeição: O evento exige uma NF-e autorizada'),
  protocolDiffers: status('222', 'Rejeição: Protocolo de Autorização de Uso difere do cadastrado'),
  /** 110111 after 30 minutes, 110112 after 168 h (the text is SP's for NFC-e). */
  cancellationLate: status('501', 'Rejeição: Prazo de cancelamento superior ao previsto na Legislação'),
  // 110112's own rules (the cancellation events' rule table: P12-48, P31-46, 5P31-10, 5P31-14).
  substitutionEmissionType: status('920', 'Rejeição: Tipo de Emissão inválido no Cancelamento por Substituição'),
  substituteOtherEmitter: status('911', 'Rejeição: Chave de Acesso NF-e Substituta incorreta (CNPJ/CPF)'),
  substituteNotFound: status('912', 'Rejeição: NF-e Substituta inexistente'),
  substituteCancelled: status('913', 'Rejeição: NF-e Substituta Denegada ou Cancelada'),

  // Inutilização (NFeInutilizacao4: retInutNFe). Codes and texts as MOC 7.0's cStat table words
  // them; which rules NFeInutilizacao4 checks, and in which order, could not be read in the MOC's
  // own rule table (see inutilizacao.ts for the codes borrowed from the NF-e's rules, UNCONFIRMED).
  inutilized: status('102', 'Inutilização de número homologado'),
  rangeInverted: status('224', 'Rejeição: A faixa inicial é maior que a faixa final'),
  numberUsed: status('241', 'Rejeição: Um número da faixa já foi utilizado'),
  rangeInutilized: status('256', 'Rejeição: Uma NF-e da faixa já está inutilizada na Base de dados da SEFAZ'),
  inutilizationYearAhead: status('453', 'Rejeição: Ano de inutilização não pode ser superior ao Ano atual'),
  inutilizationYearTooOld: status('454', 'Rejeição: Ano de inutilização não pode ser inferior a 2006'),
  /** NFeAutorizacao4: the NFC-e's number lies in an inutilized range. */
  numberInutilized: status('206', 'Rejeição: NF-e já está inutilizada na Base de dados da SEFAZ'),
} as const;

/** NT 2025.002-RTC, group UB: per item, the item's nItem in the text as SEFAZ fills "[nItem: 999]". */
const itemStatus = (cStat: string, xMotivo: string) => (nItem: string) => status(cStat, `${xMotivo} [nItem: ${nItem}]`);

export const itemStatuses = {
  ibsCbsMissing: itemStatus('1115', 'Rejeição: IBS/CBS não informado'),
  ibsUfRate: itemStatus('1026', 'Rejeição: Alíquota do IBS da UF inválida'),
  ibsUfValue: itemStatus('1041', 'Rejeição: Valor do IBS da UF difere do calculado'),
  ibsMunRate: itemStatus('1036', 'Rejeição: Alíquota do IBS do Município inválida'),
  ibsMunValue: itemStatus('1052', 'Rejeição: Valor do IBS Municipal difere do calculado'),
  ibsValue: itemStatus('1150', 'Rejeição: Valor do IBS do Item (vIBS) difere do calculado'),
  cbsRate: itemStatus('1037', 'Rejeição: Alíquota da CBS inválida'),
  cbsValue: itemStatus('1069', 'Rejeição: Valor da CBS difere do calculado'),
} as const;

export const duplicate = (chNFe: string): Status => status('204', `Rejeição: Duplicidade de NF-e [chNFe:${chNFe}]`);

export const duplicateNumber = (chNFe: string, nRec: string): Status =>
  status('539', `Rejeição: Duplicidade de NF-e com diferença na Chave de Acesso [chNFe:${chNFe}][nRec:${nRec}]`);
