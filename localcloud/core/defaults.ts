/** The Tablestore instance startLocalCloud creates in the management account and the local
 *  function host points TABLESTORE_INSTANCE at. */
export const DEFAULT_TABLESTORE_INSTANCE = 'rdgov';
