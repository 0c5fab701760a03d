import { describe, expect, it } from "vitest";

import { IMAGE_BOX, imageAlt, productImage } from "../lib/image";

describe("productImage", () => {
  it("loads Django's media addresses from the page's own origin", () => {
    expect(productImage("http://localhost:8000/media/link-images/Ab_c.png", 300, 450)).toEqual({
      src: "/media/link-images/Ab_c.png",
      width: 300,
      height: 450,
    });
  });

  it("scales the reserved box to the longest side, keeping the shape", () => {
    expect(productImage("https://pay.example.com/media/link-images/x.jpg", 1600, 800)).toEqual({
      src: "/media/link-images/x.jpg",
      width: IMAGE_BOX,
      height: IMAGE_BOX / 2,
    });
  });

  it("takes other addresses only from allowed origins", () => {
    const url = "https://cdn.example.com/covers/1.webp";
    expect(productImage(url, 10, 10)).toBeNull();
    expect(productImage(url, 10, 10, ["https://cdn.example.com"])?.src).toBe(url);
  });

  it("refuses what is not an http(s) image with a size", () => {
    expect(productImage(null, 10, 10)).toBeNull();
    expect(productImage("https://a.example/media/link-images/x.png", null, 10)).toBeNull();
    expect(productImage("https://a.example/media/link-images/x.png", 0, 10)).toBeNull();
    expect(productImage("javascript:alert(1)", 10, 10)).toBeNull();
    expect(productImage("data:image/png;base64,AAAA", 10, 10)).toBeNull();
    expect(productImage("not a url", 10, 10)).toBeNull();
    expect(productImage("https://a.example/media/merchant-logos/x.png", 10, 10)).toBeNull();
  });

  it("names the item in the alt text", () => {
    expect(imageAlt("Atlas of Islands")).toBe("Product image: Atlas of Islands");
  });
});
