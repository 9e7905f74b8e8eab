/** Elderly care in the cloud (issue 8): the residents registry. */
export { saveResidents, findResident, listResidents, parseResidentsFile, teamOf, type CareResident } from './residents.js';
