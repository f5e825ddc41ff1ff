{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 6,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "classnamespace": "box",
  "rect": [
   100.0,
   100.0,
   700.0,
   520.0
  ],
  "gridsize": [
   15.0,
   15.0
  ],
  "boxes": [
   {
    "box": {
     "id": "c-title",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      10,
      640,
      22
     ],
     "outlettype": [],
     "text": "mlpkit serve from Max. Start the server first: mlpkit serve --reply-port 57131 (replies come to [udpreceive 57131]). Click the messages from top to bottom."
    }
   },
   {
    "box": {
     "id": "m-create",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      60,
      196,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "/mlp/create demo regressor 8"
    }
   },
   {
    "box": {
     "id": "m-settings",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      95,
      742,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "/mlp/set demo inputs 1, /mlp/set demo maxIter 10, /mlp/set demo learnRate 0.05, /mlp/set demo validation 0"
    }
   },
   {
    "box": {
     "id": "c-points",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      130,
      420,
      22
     ],
     "outlettype": [],
     "text": "points: ID x y (y = 0.5 x + 0.2)"
    }
   },
   {
    "box": {
     "id": "m-points",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      155,
      1001,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "/mlp/point demo p0 0. 0.2, /mlp/point demo p1 0.25 0.325, /mlp/point demo p2 0.5 0.45, /mlp/point demo p3 0.75 0.575, /mlp/point demo p4 1. 0.7"
    }
   },
   {
    "box": {
     "id": "c-fit",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      195,
      420,
      22
     ],
     "outlettype": [],
     "text": "fit again and again while you watch the error (FluCoMa's training loop)"
    }
   },
   {
    "box": {
     "id": "t-fit",
     "maxclass": "toggle",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      220,
      24,
      22
     ],
     "outlettype": [
      "int"
     ]
    }
   },
   {
    "box": {
     "id": "o-metro",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      250,
      63,
      22
     ],
     "outlettype": [
      "bang"
     ],
     "text": "metro 250"
    }
   },
   {
    "box": {
     "id": "m-fit",
     "maxclass": "message",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      20,
      280,
      91,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "/mlp/fit demo"
    }
   },
   {
    "box": {
     "id": "c-predict",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      260,
      195,
      420,
      22
     ],
     "outlettype": [],
     "text": "predict: move the slider (x from 0 to 1)"
    }
   },
   {
    "box": {
     "id": "s-x",
     "maxclass": "slider",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      260,
      220,
      140,
      22
     ],
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "o-scale",
     "maxclass": "newobj",
     "numinlets": 2,
     "numoutlets": 1,
     "patching_rect": [
      260,
      250,
      60,
      22
     ],
     "outlettype": [
      "float"
     ],
     "text": "/ 127."
    }
   },
   {
    "box": {
     "id": "o-prepend",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      260,
      280,
      175,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "prepend /mlp/predict demo"
    }
   },
   {
    "box": {
     "id": "o-send",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      20,
      330,
      161,
      22
     ],
     "outlettype": [],
     "text": "udpsend 127.0.0.1 57130"
    }
   },
   {
    "box": {
     "id": "o-receive",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 1,
     "patching_rect": [
      20,
      380,
      112,
      22
     ],
     "outlettype": [
      ""
     ],
     "text": "udpreceive 57131"
    }
   },
   {
    "box": {
     "id": "o-route",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 4,
     "patching_rect": [
      20,
      410,
      266,
      22
     ],
     "outlettype": [
      "",
      "",
      "",
      ""
     ],
     "text": "route /mlp/fit /mlp/predict /mlp/error"
    }
   },
   {
    "box": {
     "id": "o-fit-name",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20,
      440,
      70,
      22
     ],
     "outlettype": [
      "",
      ""
     ],
     "text": "route demo"
    }
   },
   {
    "box": {
     "id": "f-error",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      20,
      470,
      80,
      22
     ],
     "outlettype": [
      "",
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "c-error",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      105,
      470,
      160,
      22
     ],
     "outlettype": [],
     "text": "error of the last fit"
    }
   },
   {
    "box": {
     "id": "o-pred-name",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      260,
      440,
      70,
      22
     ],
     "outlettype": [
      "",
      ""
     ],
     "text": "route demo"
    }
   },
   {
    "box": {
     "id": "f-y",
     "maxclass": "flonum",
     "numinlets": 1,
     "numoutlets": 2,
     "patching_rect": [
      260,
      470,
      80,
      22
     ],
     "outlettype": [
      "",
      "bang"
     ]
    }
   },
   {
    "box": {
     "id": "c-y",
     "maxclass": "comment",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      345,
      470,
      100,
      22
     ],
     "outlettype": [],
     "text": "prediction"
    }
   },
   {
    "box": {
     "id": "o-print",
     "maxclass": "newobj",
     "numinlets": 1,
     "numoutlets": 0,
     "patching_rect": [
      480,
      440,
      126,
      22
     ],
     "outlettype": [],
     "text": "print mlpkit-error"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "m-create",
      0
     ],
     "destination": [
      "o-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "m-settings",
      0
     ],
     "destination": [
      "o-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "m-points",
      0
     ],
     "destination": [
      "o-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "m-fit",
      0
     ],
     "destination": [
      "o-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-prepend",
      0
     ],
     "destination": [
      "o-send",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "t-fit",
      0
     ],
     "destination": [
      "o-metro",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-metro",
      0
     ],
     "destination": [
      "m-fit",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "s-x",
      0
     ],
     "destination": [
      "o-scale",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-scale",
      0
     ],
     "destination": [
      "o-prepend",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-receive",
      0
     ],
     "destination": [
      "o-route",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-route",
      0
     ],
     "destination": [
      "o-fit-name",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-fit-name",
      0
     ],
     "destination": [
      "f-error",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-route",
      1
     ],
     "destination": [
      "o-pred-name",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-pred-name",
      0
     ],
     "destination": [
      "f-y",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "o-route",
      2
     ],
     "destination": [
      "o-print",
      0
     ]
    }
   }
  ]
 }
}
