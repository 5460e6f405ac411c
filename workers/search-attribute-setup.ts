import { temporal } from '@temporalio/proto';
import { SLUICE_SEARCH_ATTRIBUTES } from '../contracts/search-attributes';

type OperatorService = temporal.api.operatorservice.v1.OperatorService;
const { IndexedValueType } = temporal.api.enums.v1;
const TYPES = { Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, Int: IndexedValueType.INDEXED_VALUE_TYPE_INT, Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE };

/**
 * Registers the Sluice search attributes the namespace lacks (a workflow that sets an unknown one
 * cannot complete its task). Returns the names it added. Needs operator rights on the cluster; on
 * Temporal Cloud, create them once in the namespace settings instead.
 */
export async function ensureSearchAttributes(connection: { operatorService: OperatorService }, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = SLUICE_SEARCH_ATTRIBUTES.filter((a) => !(a.name in (customAttributes ?? {})));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((a) => [a.name, TYPES[a.type]])) });
  }
  return missing.map((a) => a.name);
}
