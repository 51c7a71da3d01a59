// Writes ../../src/api/console/world.json: every country of Natural Earth's 1:110m map (npm
// world-atlas, public domain) as an SVG path in the Natural Earth projection, keyed by its
// ISO 3166-1 alpha-2 code (the code records carry in client.geo.country). Kosovo gets XK, the
// code in common use; a shape with no code (N. Cyprus, Somaliland) is drawn without data.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { geoNaturalEarth1, geoPath } from "d3-geo";
import { feature } from "topojson-client";

const require = createRequire(import.meta.url);
const countries = require("i18n-iso-countries");
const world = JSON.parse(readFileSync(require.resolve("world-atlas/countries-110m.json"), "utf8"));

const [width, height] = [960, 480];
const shapes = feature(world, world.objects.countries);
const projection = geoNaturalEarth1().fitSize([width, height], shapes);
const path = geoPath(projection).digits(1);

const out = shapes.features
  .map((shape) => ({
    code: shape.id ? countries.numericToAlpha2(shape.id) || null : shape.properties.name === "Kosovo" ? "XK" : null,
    name: shape.properties.name,
    d: path(shape),
  }))
  .filter((country) => country.d)
  .sort((a, b) => a.name.localeCompare(b.name));

const target = new URL("../../src/api/console/world.json", import.meta.url);
writeFileSync(target, JSON.stringify({ source: "Natural Earth 1:110m via world-atlas 2.0.2 (public domain)", width, height, countries: out }) + "\n");
console.log(`${out.length} countries, ${readFileSync(target).length} bytes`);
