import { describe, expect, it } from 'vitest';
import { isRasterImage } from '../../src/stash/graphql';
import { DEFAULT_COVER_SVG } from '../fake-stash/server';

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16]);
const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

describe("telling a scene's cover from Stash's default image", () => {
  it('takes JPEG, PNG, WebP and GIF covers by their content type', () => {
    for (const contentType of ['image/jpeg', 'image/png', 'image/webp', 'image/gif']) {
      expect(isRasterImage({ bytes: png, contentType }), contentType).toBe(true);
    }
  });

  it("never takes the SVG icon Stash serves for a scene without a cover", () => {
    expect(isRasterImage({ bytes: DEFAULT_COVER_SVG, contentType: 'image/svg+xml' })).toBe(false);
    expect(isRasterImage({ bytes: DEFAULT_COVER_SVG, contentType: 'application/octet-stream' })).toBe(false);
    expect(isRasterImage({ bytes: Buffer.from('<html>login</html>'), contentType: 'text/html' })).toBe(false);
  });

  it('recognises a raster image by its signature when the content type is generic', () => {
    for (const bytes of [png, jpeg, webp, Buffer.from('GIF89a')]) {
      expect(isRasterImage({ bytes, contentType: 'application/octet-stream' })).toBe(true);
    }
  });
});
