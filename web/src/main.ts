/**
 * The page's entry (index.html loads it): everything is built in app/boot.ts.
 */
import { boot } from './app/boot';

boot();
