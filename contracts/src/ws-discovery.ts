/**
 * Where ONVIF cameras are discovered on the wire (WS-Discovery 2005/04, ONVIF Core §7.3): the edge's probe
 * and the simulated camera's responder meet at this multicast group and port.
 */
export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;
