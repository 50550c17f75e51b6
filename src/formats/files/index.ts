// Writers of histogram files in the formats Python peers read: .coffea (HaaS flush) and UHI HDF5.
export { coffeaPickle, encodeCoffea } from "./coffea.ts";
